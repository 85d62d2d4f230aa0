// Unit tests of the awake-time deadline the checking-worker pool uses (pure
// logic, a simulated clock).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwakeDeadline } from '../../js/watchdog.js';

test('a share unanswered for the limit of awake time passes the deadline', () => {
  const deadline = new AwakeDeadline(8_000, 1_000, 0);
  for (let t = 1_000; t < 8_000; t += 1_000) assert.equal(deadline.passed(t), false, `at ${t} ms`);
  assert.equal(deadline.passed(8_000), true);
});

test('a sleep or a frozen tab between two checks counts as one step, not as its length', () => {
  const deadline = new AwakeDeadline(8_000, 1_000, 0);
  assert.equal(deadline.passed(1_000), false);
  // Ten hours asleep: the next check counts 1.5 s.
  assert.equal(deadline.passed(1_000 + 10 * 3_600_000), false);
  // The deadline then comes after the rest of the awake time.
  let t = 1_000 + 10 * 3_600_000;
  let checks = 0;
  while (!deadline.passed((t += 1_000))) checks += 1;
  assert.equal(checks, 5, 'awake seconds after waking');
});

test('a clock going backwards counts nothing', () => {
  const deadline = new AwakeDeadline(2_000, 1_000, 5_000);
  assert.equal(deadline.passed(1_000), false);
  assert.equal(deadline.passed(5_000), false, 'nothing counted back to where it was');
  assert.equal(deadline.passed(6_000), false);
  assert.equal(deadline.passed(7_000), true);
});
