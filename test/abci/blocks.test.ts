/**
 * 125 blocks of signed txs (valid, bad signature, wrong sequence, garbage,
 * insufficient funds) driven over the socket exactly as CometBFT does
 * (CheckTx burst + Flush → PrepareProposal → ProcessProposal → FinalizeBlock
 * → Commit), checked result by result against an in-process App fed the same
 * blocks; then the server is restarted on the populated home and continues.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CheckTxType, ResponseProcessProposal_ProposalStatus as Status } from 'cosmjs-types/tendermint/abci/types';
import { App } from '../../chain/app.js';
import { VerifyPool } from '../../chain/crypto/verify-pool.js';
import type { AbciServer } from '../../chain/abci/index.js';
import type { ExecTxResult } from '../../chain/types.js';
import { testKeys } from '../helpers/keys.js';
import { AbciTestClient, encodeRequest } from './client.js';
import {
  appFinalize,
  appInitChain,
  blockTimeNs,
  corruptSignature,
  expectKind,
  finalizeRequest,
  hex,
  infoOf,
  initChainRequest,
  prepareRequest,
  processRequest,
  referenceChain,
  rng,
  startTestServer,
  tempDir,
  VALIDATOR,
} from './harness.js';

const FIRST_RUN = 120;
const AFTER_RESTART = 5;

describe('ABCI blocks: socket vs in-process', () => {
  const home = tempDir();
  const dbPath = join(home.dir, 'state.db');
  const pool = new VerifyPool(2);
  const keys = testKeys(6, 'abci-blocks');
  const ref = referenceChain({ keys, balance: 1_000_000_000n });
  const random = rng(20260101);
  let app: App;
  let server: AbciServer;
  let cons: AbciTestClient;
  let mem: AbciTestClient;
  let query: AbciTestClient;
  const codesSeen = new Map<string, number>();

  async function connectAll(addr: string): Promise<void> {
    // CometBFT's dial order: query, snapshot (unused here), mempool, consensus.
    query = await AbciTestClient.connect(addr);
    mem = await AbciTestClient.connect(addr);
    cons = await AbciTestClient.connect(addr);
  }

  beforeAll(async () => {
    app = App.open({ dbPath, verifyPool: pool });
    ({ server } = await startTestServer({ app }));
    await connectAll(server.address);
  });

  afterAll(async () => {
    for (const c of [cons, mem, query]) c?.destroy();
    await server?.close();
    app?.close();
    await pool.close();
    home.cleanup();
  });

  function pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(random() * xs.length)]!;
  }

  /** The txs a block's users submit; `direct` ones a byzantine proposer adds without CheckTx. */
  async function makeTxs(h: number): Promise<Uint8Array[]> {
    const txs: Uint8Array[] = [];
    const n = 2 + Math.floor(random() * 5);
    for (let i = 0; i < n; i++) {
      const from = pick(keys);
      txs.push(await ref.send(from, pick(keys).address, BigInt(1 + Math.floor(random() * 1000))));
    }
    const victim = pick(keys);
    if (h % 3 === 0) txs.push(corruptSignature(await ref.send(victim, pick(keys).address, 5n, { sequence: ref.nextSequence(victim.address) })));
    if (h % 4 === 0) txs.push(await ref.send(victim, pick(keys).address, 5n, { sequence: ref.nextSequence(victim.address) + 3n }));
    if (h % 5 === 0) txs.push(Buffer.from(Array.from({ length: 40 + (h % 13) }, (_, i) => (i * 31 + h) & 0xff)));
    if (h % 7 === 0) txs.push(await ref.send(victim, pick(keys).address, 10n ** 15n)); // passes the ante, fails in the bank
    return txs;
  }

  function sameResult(got: { code: number; codespace: string; log: string; gasWanted: bigint; gasUsed: bigint; events: Array<{ type: string; attributes: Array<{ key: string; value: string; index: boolean }> }>; data: Uint8Array }, want: ExecTxResult, what: string): void {
    expect({ code: got.code, codespace: got.codespace, log: got.log, gasWanted: got.gasWanted, gasUsed: got.gasUsed, data: hex(got.data) }, what).toEqual({
      code: want.code,
      codespace: want.codespace,
      log: want.log,
      gasWanted: want.gasWanted,
      gasUsed: want.gasUsed,
      data: hex(want.data),
    });
    expect(got.events, `${what} events`).toEqual(want.events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: a.index })) })));
  }

  async function runBlock(hn: number): Promise<void> {
    const h = BigInt(hn);
    const txs = await makeTxs(hn);

    // Mempool: the CheckTx burst is pipelined, then flushed, as CometBFT's async CheckTx does.
    await mem.writeRaw(Buffer.concat([...txs.map((tx) => encodeRequest({ checkTx: { tx, type: CheckTxType.NEW } })), encodeRequest({ flush: {} })]));
    const checks = await mem.nextN(txs.length + 1);
    expectKind(checks[txs.length]!, 'flush');
    const mempool: Uint8Array[] = [];
    for (let i = 0; i < txs.length; i++) {
      expectKind(checks[i]!, 'checkTx');
      const want = ref.app.checkTx({ tx: txs[i]!, type: 'new' });
      sameResult(checks[i]!.checkTx!, want, `height ${hn} CheckTx ${i}`);
      if (want.code === 0) mempool.push(txs[i]!);
    }

    // Proposal.
    const prep = await cons.call({ prepareProposal: prepareRequest(h, mempool) });
    expectKind(prep, 'prepareProposal');
    const refPrep = ref.app.prepareProposal({ maxTxBytes: 4_000_000n, txs: mempool, localLastCommit: { round: 0, votes: [] }, height: h, timeNs: blockTimeNs(h), proposerAddress: VALIDATOR.address });
    expect(prep.prepareProposal!.txs.map(hex)).toEqual(refPrep.txs.map(hex));
    const proposal = prep.prepareProposal!.txs;
    const proc = await cons.call({ processProposal: processRequest(h, proposal) });
    expect(proc.processProposal!.status).toBe(Status.ACCEPT);

    // A byzantine proposer adds the txs that failed CheckTx; the block is decided anyway.
    const inProposal = new Set(proposal.map(hex));
    const block = [...proposal, ...txs.filter((tx) => !inProposal.has(hex(tx)))];
    const procBlock = await cons.call({ processProposal: processRequest(h, block) });
    const refStatus = ref.app.processProposal({ txs: block, proposedLastCommit: { round: 0, votes: [] }, hash: new Uint8Array(32), height: h, timeNs: blockTimeNs(h), proposerAddress: VALIDATOR.address });
    expect(procBlock.processProposal!.status).toBe(refStatus === 'accept' ? Status.ACCEPT : Status.REJECT);

    // Execution.
    const fin = await cons.call({ finalizeBlock: finalizeRequest(h, block) });
    expectKind(fin, 'finalizeBlock');
    const want = ref.app.finalizeBlock(appFinalize(h, block));
    const got = fin.finalizeBlock!;
    expect(got.txResults.length).toBe(block.length);
    got.txResults.forEach((r, i) => {
      sameResult(r, want.txResults[i]!, `height ${hn} tx ${i}`);
      const k = `${r.codespace}/${r.code}`;
      codesSeen.set(k, (codesSeen.get(k) ?? 0) + 1);
    });
    expect(got.events.length).toBe(want.events.length);
    expect(got.validatorUpdates).toEqual([]);
    expect(got.consensusParamUpdates).toBeUndefined();
    expect(hex(got.appHash)).toBe(hex(want.appHash));

    // Info between FinalizeBlock and Commit still reports the last committed height.
    expect((await infoOf(query))[0]).toBe(h - 1n);

    const commit = await cons.call({ commit: {} });
    expectKind(commit, 'commit');
    expect(commit.commit!.retainHeight).toBe(ref.app.commit().retainHeight);
  }

  it('handshake on a fresh home: Info 0, InitChain with the genesis app_state', async () => {
    expect(await infoOf(query)).toEqual([0n, '']);
    const r = await cons.call({ initChain: initChainRequest(ref.appState) });
    expectKind(r, 'initChain');
    // The genesis state's hash (what the in-process App computes for the same genesis).
    const fresh = App.open({});
    const want = fresh.initChain(appInitChain(ref.appState));
    fresh.close();
    expect(hex(r.initChain!.appHash)).toBe(hex(want.appHash));
    expect(r.initChain!.validators).toEqual([]); // keep the genesis validators
    expect(r.initChain!.consensusParams).toBeUndefined(); // keep the genesis params
    expect(await infoOf(query)).toEqual([0n, '']); // nothing committed yet
  });

  it(`${FIRST_RUN} blocks give the same results and app hashes as the in-process App`, async () => {
    for (let h = 1; h <= FIRST_RUN; h++) await runBlock(h);
    expect(await infoOf(query)).toEqual([BigInt(FIRST_RUN), hex(ref.app.appHash)]);
    // The blocks really exercised failures: success, bad signature, wrong sequence, decode error, insufficient funds.
    expect(codesSeen.size).toBeGreaterThanOrEqual(5);
    expect(codesSeen.get('/0')).toBeGreaterThan(FIRST_RUN * 2);
  });

  it('a restarted server on the populated home continues where it committed', async () => {
    for (const c of [cons, mem, query]) c.destroy();
    await server.close();
    app.close();

    app = App.open({ dbPath, verifyPool: pool });
    const sock = join(home.dir, 'abci.sock');
    ({ server } = await startTestServer({ app, addr: `unix://${sock}` }));
    expect(server.address).toBe(`unix://${sock}`);
    await connectAll(server.address);
    expect(await infoOf(query)).toEqual([BigInt(FIRST_RUN), hex(ref.app.appHash)]);
    for (let h = FIRST_RUN + 1; h <= FIRST_RUN + AFTER_RESTART; h++) await runBlock(h);
    expect(await infoOf(query)).toEqual([BigInt(FIRST_RUN + AFTER_RESTART), hex(ref.app.appHash)]);
  });
});
