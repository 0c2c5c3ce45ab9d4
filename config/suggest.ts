import { closest, distance } from "fastest-levenshtein";

/** The known key a typo most likely meant, if any is close enough to be a plausible slip. */
export function suggestKey(typo: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(
    typo.toLowerCase(),
    known.map((k) => k.toLowerCase()),
  );
  const limit = Math.max(2, Math.floor(typo.length / 3));
  if (distance(typo.toLowerCase(), best) > limit) return undefined;
  return known.find((k) => k.toLowerCase() === best);
}
