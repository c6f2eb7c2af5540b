import { partitionOf } from './partition-of.ts';

/** What one member sees in a round: the live members and who holds each partition (null: free or stale). */
export interface GroupView {
  partitions: number;
  /** Live members, ourselves included. */
  live: string[];
  /** Per partition, the member whose fresh lease holds it; null when nobody does (never taken, released, stale). */
  holders: (string | null)[];
}

/** What a member does this round: partitions it hands over, free partitions it takes. */
export interface RoundPlan {
  release: number[];
  take: number[];
}

/** Rendezvous score: how much `member` wants `partition`; the same number in every process. */
export function score(member: string, partition: number): number {
  return partitionOf(`${member}#${partition}`, 0x7fffffff);
}

/** Higher score first; equal scores by member name, then partition, so every member sorts the same way. */
function byScore(a: [number, string, number], b: [number, string, number]): number {
  if (a[0] !== b[0]) return b[0] - a[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] - b[2];
}

/**
 * Sticky, capped assignment. Nothing moves while the load is balanced (every live member holds between
 * floor(partitions/members) and ceil(partitions/members)); a member above the cap hands over its least wanted
 * partitions, and free partitions go first to members below the floor, then to members below the cap, in rendezvous
 * score order. Every member computes this from the same lease table, so they agree without talking; a view a round
 * out of date costs a compare-and-swap race, never two holders. A join therefore moves only partitions to the
 * newcomer, a leave only the leaver's partitions: no partition goes from one staying member to another.
 */
export function planRound(me: string, view: GroupView): RoundPlan {
  const { partitions, live, holders } = view;
  const n = Math.max(1, live.length);
  const floor = Math.floor(partitions / n);
  const cap = Math.ceil(partitions / n);
  const load = new Map<string, number>(live.map((m) => [m, 0]));
  for (const holder of holders) if (holder !== null && load.has(holder)) load.set(holder, load.get(holder)! + 1);
  const free = holders.flatMap((holder, p) => (holder === null ? [p] : []));
  const mine = holders.flatMap((holder, p) => (holder === me ? [p] : []));
  const weakestFirst = mine.sort((a, b) => score(me, a) - score(me, b) || a - b);

  if (mine.length > cap) return { release: weakestFirst.slice(0, mine.length - cap), take: [] };
  const deficit = live.reduce((sum, m) => sum + Math.max(0, floor - load.get(m)!), 0);
  const short = deficit - free.length;
  if (short > 0 && mine.length > floor) {
    // Only as many members as the deficit needs give one partition each: the most loaded, then by name.
    const givers = live
      .filter((m) => load.get(m)! > floor)
      .sort((a, b) => load.get(b)! - load.get(a)! || (a < b ? -1 : 1))
      .slice(0, short);
    if (givers.includes(me)) return { release: weakestFirst.slice(0, 1), take: [] };
  }
  return { release: [], take: assignFree(free, live, load, floor, cap).get(me) ?? [] };
}

/** Free partitions to members below the floor, then below the cap, the strongest claims first. */
function assignFree(
  free: number[],
  live: string[],
  load: Map<string, number>,
  floor: number,
  cap: number,
): Map<string, number[]> {
  const pairs: [number, string, number][] = [];
  for (const p of free) for (const m of live) pairs.push([score(m, p), m, p]);
  pairs.sort(byScore);
  const owner = new Map<number, string>();
  const count = new Map(load);
  for (const limit of [floor, cap]) {
    for (const [, m, p] of pairs) {
      if (owner.has(p) || count.get(m)! >= limit) continue;
      owner.set(p, m);
      count.set(m, count.get(m)! + 1);
    }
  }
  const byMember = new Map<string, number[]>();
  for (const [p, m] of owner) byMember.set(m, [...(byMember.get(m) ?? []), p]);
  return byMember;
}

/**
 * The assignment a group settles on when its members start together and nothing fails: the rounds of `planRound`
 * run to a fixed point, one member after the other. Tests and the bench use it to know which member evaluates what.
 */
export function settledAssignment(partitions: number, live: string[], start?: (string | null)[]): (string | null)[] {
  const holders = start ? [...start] : new Array<string | null>(partitions).fill(null);
  const members = [...live].sort();
  for (let guard = 0; guard < 10 * partitions + 10; guard++) {
    let changed = false;
    for (const me of members) {
      const plan = planRound(me, { partitions, live: members, holders });
      for (const p of plan.release) holders[p] = null;
      for (const p of plan.take) if (holders[p] === null) holders[p] = me;
      changed ||= plan.release.length > 0 || plan.take.length > 0;
    }
    if (!changed) return holders;
  }
  throw new Error('collector group assignment did not settle');
}
