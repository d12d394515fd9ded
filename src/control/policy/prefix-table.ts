import type { IpAddress, IpNetwork } from './ip-address.js';
import { maskOf } from './ip-address.js';

/**
 * Values keyed by IP network, answering "the values of the longest network that holds this
 * address" with one map lookup per distinct prefix length in use (at most 33 or 129), not one
 * comparison per network.
 */
export class PrefixTable<T> {
  readonly #byLength = new Map<string, Map<bigint, T[]>>();
  #lengths: Record<4 | 6, number[]> = { 4: [], 6: [] };

  /** Adds a value under a network; values of the same network keep their insertion order. */
  add(network: IpNetwork, value: T): void {
    const key = `${network.family}/${network.prefix}`;
    let table = this.#byLength.get(key);
    if (table === undefined) {
      table = new Map();
      this.#byLength.set(key, table);
      const lengths = [...this.#lengths[network.family], network.prefix].sort((a, b) => b - a);
      this.#lengths = { ...this.#lengths, [network.family]: lengths };
    }
    const values = table.get(network.network);
    if (values === undefined) table.set(network.network, [value]);
    else values.push(value);
  }

  /**
   * Networks holding the address, longest prefix first, each with its values; a generator so
   * a caller that finds what it needs in the longest network stops there.
   */
  *matches(address: IpAddress): Generator<{ prefix: number; values: readonly T[] }> {
    for (const prefix of this.#lengths[address.family]) {
      const table = this.#byLength.get(`${address.family}/${prefix}`);
      const values = table?.get(maskOf(address.value, address.family, prefix));
      if (values !== undefined) yield { prefix, values };
    }
  }

  /** True when some network of the table holds the address. */
  has(address: IpAddress): boolean {
    return !this.matches(address).next().done;
  }
}
