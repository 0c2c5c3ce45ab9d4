/** Bytes per unit of a memory quantity as Cloud Run's `limits.memory` takes it (Kubernetes' units). */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
};

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)$/;

/** `512Mi`, `1Gi`, `2G` in MiB; undefined for what is not a memory quantity. */
export function memoryMiB(text: string): number | undefined {
  const m = QUANTITY.exec(text.trim());
  return m ? (Number(m[1]) * UNIT_BYTES[m[2]]) / 1024 ** 2 : undefined;
}
