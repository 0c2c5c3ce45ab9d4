/**
 * Where a service runs, and what its per-region resources are called.
 *
 * The stack's home region (`gcp:region`) keeps the resource names a single-region service always had,
 * so a single-region stack renders exactly as before and adding a region replaces nothing: only the
 * other regions' resources carry the region in their names.
 */
export function regionalResourceName(name: string, region: string, homeRegion: string): string {
  return region === homeRegion ? name : `${name}-${region}`;
}

/** The region whose URL stands for the service: the home region when the service runs there. */
export function primaryRegion(regions: readonly string[], homeRegion: string): string {
  return regions.includes(homeRegion) ? homeRegion : regions[0];
}
