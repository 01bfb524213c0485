import * as E from 'fp-ts/Either';
import { boundedText } from '@partner-ledger/events';

/** How deep a command line may nest objects and arrays; a command needs five levels at most. */
export const MAX_JSON_DEPTH = 64;

export interface JsonLineProblem {
  /** `(line)` for the line as a whole, else the path of the key at fault. */
  readonly field: string;
  readonly message: string;
}

/**
 * Reads one NDJSON line strictly, where JSON.parse is lenient or fails badly: a key repeated in one object
 * (JSON.parse keeps the last, so `"amount":"1.00","amount":"99999.00"` would pay the second) is refused
 * naming the key; nesting deeper than MAX_JSON_DEPTH is refused before any recursion (200,000 brackets
 * would otherwise end in "Maximum call stack size exceeded", naming no line). Everything else is JSON.parse's
 * own grammar: the parser below only finds the structure, and JSON.parse reads every scalar and validates.
 */
export const parseJsonLine = (text: string): E.Either<JsonLineProblem, unknown> => {
  const depthProblem = checkDepth(text);
  if (depthProblem !== undefined) return E.left(depthProblem);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return E.left({ field: '(line)', message: `not JSON: ${(error as Error).message}` });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined)
    return E.left({
      // A key of megabytes is named by its start and length, not echoed whole.
      field: boundedText(duplicate),
      message: 'this key appears twice in the same object; which value was meant is unknown',
    });
  return E.right(value);
};

/** The nesting depth, counted outside strings, without recursion. */
const checkDepth = (text: string): JsonLineProblem | undefined => {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i += 1; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH)
        return {
          field: '(line)',
          message: `nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays (a command needs far fewer)`,
        };
    } else if (c === 125 || c === 93) depth -= 1;
  }
  return undefined;
};

/**
 * The path of the first key repeated within one object of a line that JSON.parse accepted (so the text is
 * well-formed JSON, at most MAX_JSON_DEPTH deep), or undefined.
 */
const findDuplicateKey = (text: string): string | undefined => {
  // One frame per open object or array: the keys seen so far (objects), the path to it, the current index.
  const frames: Array<{ keys: Set<string> | null; path: string; index: number; key: string | null }> = [];
  const childPath = (): string => {
    const top = frames[frames.length - 1];
    if (top === undefined) return '';
    if (top.keys === null) return `${top.path}[${top.index}]`;
    return top.path === '' ? (top.key ?? '') : `${top.path}.${top.key ?? ''}`;
  };
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = frames[frames.length - 1];
      if (expectKey && top !== undefined && top.keys !== null) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return top.path === '' ? key : `${top.path}.${key}`;
        top.keys.add(key);
        top.key = key;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      frames.push({ keys: c === '{' ? new Set() : null, path: childPath(), index: 0, key: null });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      frames.pop();
    } else if (c === ',') {
      const top = frames[frames.length - 1]!;
      if (top.keys === null) top.index += 1;
      else expectKey = true;
    }
  }
  return undefined;
};
