/**
 * Rendezvous (highest random weight) hashing, a form of consistent hashing: each key goes to the
 * member whose hash of (member, key) is highest. When a member leaves only its keys move, spread
 * over the others; a member that joins takes about 1/n of the keys from every other member.
 */
export function owner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = weight(m, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** 32-bit FNV-1a over member and key, then a murmur3 finaliser so close inputs spread evenly. */
function weight(member: string, key: string): number {
  let h = 0x811c9dc5;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  feed(member);
  h ^= 0xff;
  h = Math.imul(h, 0x01000193);
  feed(key);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
