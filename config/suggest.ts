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

/** The allowed value a wrong one most likely meant: a typo, or a longer or shorter form (`production`). */
export function suggestValue(value: unknown, allowed: readonly string[]): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const lower = value.toLowerCase();
  return (
    allowed.find((a) => lower.startsWith(a) || (lower.length >= 3 && a.startsWith(lower))) ??
    suggestKey(value, allowed)
  );
}
