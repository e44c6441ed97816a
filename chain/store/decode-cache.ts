/**
 * Decoded-value cache keyed by the stored bytes object. Store values are
 * never mutated in place (a write puts a new Uint8Array), so the same bytes
 * object always decodes to the same value: the cache can only save work,
 * never change a result. Cached values are frozen so a caller that tried to
 * mutate one would fail loudly instead of corrupting the cache.
 */
export class DecodeCache<T extends object> {
  private readonly map = new WeakMap<Uint8Array, T>();

  constructor(private readonly decode: (b: Uint8Array) => T) {}

  get(bytes: Uint8Array): T {
    let v = this.map.get(bytes);
    if (v === undefined) {
      v = Object.freeze(this.decode(bytes)) as T;
      this.map.set(bytes, v);
    }
    return v;
  }
}
