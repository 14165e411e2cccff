/** An error the user can act on: what went wrong, and what to do about it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
