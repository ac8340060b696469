import { UserError } from '../../generator/util/errors';

/** The message of the UserError `fn` throws; fails the test when it throws nothing or another error. */
export function userErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e.message;
    throw e;
  }
  throw new Error('expected a UserError');
}
