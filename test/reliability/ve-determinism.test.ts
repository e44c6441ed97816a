import { describe, expect, it } from 'vitest';
import { runVe } from './lib/ve-fleet.js';

/**
 * The oracle path under consensus: four validators' Apps (in memory, a pure non-proposer, one reopened from
 * sqlite and crashed before Commit now and then, one verifying on worker threads) driven through ExtendVote,
 * VerifyVoteExtension, PrepareProposal, ProcessProposal, FinalizeBlock and Commit with rotating proposers,
 * differing price sources, byzantine extensions and adversarial proposals (lib/ve-fleet.ts). Longer runs:
 * `node --import tsx test/reliability/lib/ve-fleet.ts --blocks 600 --seed N`.
 */
describe('vote-extension determinism (4 validators, full ABCI flow, adversarial proposers)', () => {
  it('every node agrees on every ProcessProposal, VerifyVoteExtension, result and app hash', async () => {
    const blocks = Number(process.env.RELIABILITY_VE_BLOCKS ?? 60);
    const s = await runVe({ blocks, seed: 3 });
    expect(s.problems).toEqual([]);
    expect(s.heights).toBe(blocks);
    // the run exercised what it is for: prices moved by votes, byzantine extensions refused, adversarial proposals tried
    expect(s.priceMovesFromVotes).toBeGreaterThan(blocks / 2);
    expect(s.byzantineExtensions).toBeGreaterThan(0);
    expect(s.adversarial.size).toBeGreaterThan(3);
  }, 300_000);
});
