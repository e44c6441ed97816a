import { buildModules, type Keepers } from '../../chain/app-modules.js';
import { EventSink, Journal, type Ctx } from '../../chain/context.js';
import { InfiniteGasMeter } from '../../chain/gas/index.js';
import { Branch } from '../../chain/store/branch.js';
import { CommittedState } from '../../chain/store/committed.js';
import type { AppModule } from '../../chain/module.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { testKeys, type TestKey } from './keys.js';

/**
 * The module set without the App or transactions: a state, keepers and a
 * context to call them directly. For keeper-level tests (margin, funding,
 * trades) where building signed txs would only add noise.
 */
export class ModuleHarness {
  readonly state = new CommittedState();
  readonly modules: AppModule[];
  readonly keepers: Keepers;
  readonly events = new EventSink();
  height = 1n;
  timeSec = 1_767_225_600n;

  constructor(appState: Record<string, unknown>) {
    const set = buildModules();
    this.modules = set.modules;
    this.keepers = set.keepers;
    const b = new Branch(this.state);
    const ctx = this.ctx(b);
    for (const m of this.modules) m.initGenesis(ctx, appState[m.name] ?? m.defaultGenesis());
    this.state.apply(b.changeSet());
  }

  /** Authority = keys[0], feeder = keys[1], every key funded with 10^12 uusdc. */
  static withMarkets(n = 6): { h: ModuleHarness; keys: TestKey[] } {
    const keys = testKeys(n, 'harness');
    const h = new ModuleHarness({
      bank: { balances: keys.map((k) => ({ address: k.address, amount: '1000000000000' })) },
      ...marketsAppState(keys[0]!.address, [keys[1]!.address]),
    });
    return { h, keys };
  }

  ctx(store: Ctx['store'] = new Branch(this.state)): Ctx {
    return {
      store,
      mode: 'deliver',
      chainId: 'harness',
      height: this.height,
      timeNs: this.timeSec * 1_000_000_000n,
      timeSec: this.timeSec,
      proposer: new Uint8Array(20),
      gas: new InfiniteGasMeter(),
      events: this.events,
      journal: new Journal(),
    };
  }

  /** Run fn on a branch and commit it to the state (like one successful tx). */
  run<T>(fn: (ctx: Ctx) => T): T {
    const b = new Branch(this.state);
    const r = fn(this.ctx(b));
    this.state.apply(b.changeSet());
    return r;
  }

  /** End-block hooks of every module at the current time. */
  endBlock(): void {
    this.run((ctx) => {
      for (const m of this.modules) m.endBlock?.({ ...ctx, mode: 'end_block' });
    });
    this.height += 1n;
  }

  invariants(): string[] {
    return this.modules.flatMap((m) => (m.invariants ?? []).flatMap((i) => i.check(this.state).map((p) => `${i.name}: ${p}`)));
  }
}
