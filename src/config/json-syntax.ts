// Strict JSON syntax checking with a position: a `.json` document must be JSON, not the YAML
// superset (trailing commas, comments, unquoted keys), and JSON.parse's messages only sometimes
// say where the error is, so a small scanner finds the offset of the first error.

/** The first JSON syntax error of a text: its offset and what was expected there. */
export interface JsonSyntaxError {
  readonly offset: number;
  readonly message: string;
}

/** Nesting deeper than this is reported rather than risking the stack. */
const MAX_DEPTH = 512;

/** Checks that `text` is one strict JSON value (RFC 8259); undefined when it is. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const found = new JsonScanner(text).check();
    return found ?? { offset: text.length, message: (err as Error).message };
  }
}

/** Unwinds the scanner's recursion to `check`, which turns it back into a result. */
class Failure extends Error {
  constructor(readonly error: JsonSyntaxError) {
    super(error.message);
  }
}

class JsonScanner {
  #at = 0;
  constructor(private readonly text: string) {}

  check(): JsonSyntaxError | undefined {
    try {
      this.#value(0);
      this.#space();
      if (this.#at < this.text.length) this.#fail('nothing may follow the JSON value');
      return undefined;
    } catch (err) {
      if (err instanceof Failure) return err.error;
      throw err;
    }
  }

  #fail(message: string): never {
    throw new Failure({ offset: this.#at, message });
  }

  #space(): void {
    while (/[ \t\r\n]/.test(this.text[this.#at] ?? '')) this.#at++;
  }

  #value(depth: number): void {
    if (depth > MAX_DEPTH) this.#fail(`nesting is deeper than ${MAX_DEPTH}`);
    this.#space();
    const c = this.text[this.#at];
    if (c === '{') return this.#members('}', depth);
    if (c === '[') return this.#members(']', depth);
    if (c === '"') return this.#string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      this.text.slice(this.#at, this.#at + 400),
    );
    if (literal === null || /[\w.+-]/.test(this.text[this.#at + literal[0].length] ?? '')) {
      this.#fail(c === undefined ? 'the text ends where a value was expected' : 'expected a value');
    }
    this.#at += literal[0].length;
  }

  /** An object (`close` = `}`) or array (`]`): no trailing comma, keys are strings. */
  #members(close: '}' | ']', depth: number): void {
    this.#at++;
    this.#space();
    if (this.text[this.#at] === close) {
      this.#at++;
      return;
    }
    for (;;) {
      this.#space();
      if (close === '}') {
        if (this.text[this.#at] !== '"') this.#fail('expected a property name in double quotes');
        this.#string();
        this.#space();
        if (this.text[this.#at] !== ':') this.#fail("expected ':' after the property name");
        this.#at++;
      }
      this.#value(depth + 1);
      this.#space();
      const c = this.text[this.#at];
      if (c === close) {
        this.#at++;
        return;
      }
      if (c !== ',') this.#fail(`expected ',' or '${close}'`);
      const comma = this.#at++;
      this.#space();
      if (this.text[this.#at] === close) {
        this.#at = comma;
        this.#fail(`a trailing comma before '${close}'`);
      }
    }
  }

  #string(): void {
    const start = this.#at;
    this.#at++;
    for (;;) {
      const c = this.text[this.#at];
      if (c === undefined) {
        this.#at = start;
        this.#fail('the string is not closed');
      }
      if (c === '"') break;
      if (c < ' ') this.#fail('a control character inside a string (use \\n, \\t, ...)');
      if (c === '\\') {
        if (!/^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(this.text.slice(this.#at + 1, this.#at + 6)))
          this.#fail('an invalid escape in a string');
        this.#at += this.text[this.#at + 1] === 'u' ? 6 : 2;
        continue;
      }
      this.#at++;
    }
    this.#at++;
  }
}
