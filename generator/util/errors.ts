/**
 * User errors: bad config, model description, weights or vectors. The CLI prints the
 * message alone (no stack trace) and exits with code 2; anything else is a bug and keeps
 * its stack trace.
 */
import * as path from 'path';
import { displayPath } from './paths';

export class UserError extends Error {
  /** `file` is the input the problem is in; `problems` are lines such as
   * "/clockMHz: must be <= 800 (got 1200)" or "models/x.ts:3:5: ...". */
  constructor(
    readonly file: string,
    readonly problems: string[],
    readonly headline?: string,
  ) {
    super(formatUserError(file, problems, headline));
    this.name = 'UserError';
  }
}

export const USER_ERROR_EXIT_CODE = 2;

function formatUserError(file: string, problems: string[], headline?: string): string {
  // Stages that know a file by its absolute path name it as every message does (displayPath).
  const shown = path.isAbsolute(file) ? displayPath(file) : file;
  const head = headline ?? (problems.length === 1 ? 'error' : `${problems.length} problems`);
  if (problems.length === 1 && !headline) {
    // A problem that already names its place ("models/x.ts:3:5: ...") is not prefixed twice.
    if (problems[0].startsWith(`${file}:`)) return shown + problems[0].slice(file.length);
    return problems[0].startsWith(`${shown}:`) ? problems[0] : `${shown}: ${problems[0]}`;
  }
  return [`${shown}: ${head}`, ...problems.map((p) => `  ${p}`)].join('\n');
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
