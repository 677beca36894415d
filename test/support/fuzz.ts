// Mutations of valid encodings for the decoders' fuzz tests, from a seeded source.

/**
 * A mutator of valid bytes: bit flips, byte overwrites, truncation, extension,
 * insertion, deletion (1 to 3 edits), drawing from `rand` and `rnd`.
 */
export function mutator(rand: () => number, rnd: (n: number) => Uint8Array): (b: Uint8Array) => Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  return (b) => {
    const out = [...b];
    const edits = 1 + int(3);
    for (let e = 0; e < edits; e++) {
      const at = int(out.length + 1);
      switch (int(6)) {
        case 0: if (out.length) out[at % out.length]! ^= 1 << int(8); break;
        case 1: if (out.length) out[at % out.length] = [0, 255, 1, 0x7f, 0x80][int(5)]!; break;
        case 2: out.length = at; break;
        case 3: out.push(...rnd(1 + int(8))); break;
        case 4: out.splice(at, 0, ...rnd(1 + int(4))); break;
        default: out.splice(at, 1 + int(4));
      }
    }
    return Uint8Array.from(out);
  };
}
