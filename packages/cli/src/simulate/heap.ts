/** A binary min-heap ordered by a string key (ISO timestamps sort as strings), then by insertion order. */
export interface Heap<T> {
  push(key: string, value: T): void;
  /** The smallest key, without removing it; undefined when empty. */
  peekKey(): string | undefined;
  pop(): { key: string; value: T } | undefined;
  readonly size: number;
}

export const createHeap = <T>(): Heap<T> => {
  const items: Array<{ key: string; seq: number; value: T }> = [];
  let seq = 0;
  const less = (a: number, b: number): boolean => {
    const x = items[a]!;
    const y = items[b]!;
    return x.key < y.key || (x.key === y.key && x.seq < y.seq);
  };
  const swap = (a: number, b: number): void => {
    const t = items[a]!;
    items[a] = items[b]!;
    items[b] = t;
  };
  return {
    push(key, value) {
      items.push({ key, seq: (seq += 1), value });
      let i = items.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    },
    peekKey: () => items[0]?.key,
    pop() {
      const top = items[0];
      if (top === undefined) return undefined;
      const last = items.pop()!;
      if (items.length > 0) {
        items[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let smallest = i;
          if (l < items.length && less(l, smallest)) smallest = l;
          if (r < items.length && less(r, smallest)) smallest = r;
          if (smallest === i) break;
          swap(i, smallest);
          i = smallest;
        }
      }
      return { key: top.key, value: top.value };
    },
    get size() {
      return items.length;
    },
  };
};
