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

/**
 * How Go prints an aggregate of errors (k8s.io/apimachinery's utilerrors.Aggregate), which
 * upstream's messages embed: the one message alone, else the distinct messages in brackets,
 * comma-separated. Empty for none.
 */
export function aggregateMessage(errors: readonly (Error | string)[]): string {
  const messages = [...new Set(errors.map((e) => (typeof e === "string" ? e : e.message)))];
  if (messages.length === 0) return "";
  return messages.length === 1 ? messages[0]! : `[${messages.join(", ")}]`;
}
