// The shape every component's error takes (STYLE.md: errors carry stable codes): a code that
// callers switch on, a message for people, and optionally the error that caused it. Each
// component declares its own subclass, so `instanceof` tells whose error it is and `name`
// says so in logs.

export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
