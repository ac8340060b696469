/** The message of the UserError `f` throws; fails the test when it throws nothing or a bug. */
import { isUserError } from '../../generator/util/errors';

export function userErrorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isUserError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a UserError');
}
