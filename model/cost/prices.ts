/**
 * The committed price table behind `orchestra cost` and the cost lines of `orchestra diff`: list prices
 * in USD, without free tiers, committed-use discounts or negotiated rates. Every price carries the date
 * it was last checked (`asOf`), the page Google publishes it on (`source`) and how it was checked
 * (`basis`); a number that could not be read on Google's own page says so in `note`.
 *
 * Change a price here, with its date and how you checked it; `tests/cost.test.ts` holds the hand-worked
 * examples that will move with it.
 */

export type PriceBasis =
  /** Read on Google's pricing page. */
  | "published"
  /** Read in the Cloud Billing catalog (SKU prices) or billing exports, not on the pricing page. */
  | "billing-catalog"
  /** Only found quoted from the pricing page by third parties; not confirmed on Google's page. */
  | "quoted";

export interface Price {
  readonly usd: number;
  readonly unit: string;
  /** The day the price was last checked against `source` (YYYY-MM-DD). */
  readonly asOf: string;
  readonly source: string;
  readonly basis: PriceBasis;
  readonly note?: string;
}

/** The hours in the month every monthly figure uses (Google's calculator uses 730 too). */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** The newest `asOf` of the table: the date `orchestra cost` prints. */
export const PRICE_TABLE_DATE = "2026-11-30";

const RUN = "https://cloud.google.com/run/pricing";
const RUN_LOCATIONS = "https://cloud.google.com/run/docs/locations";
const LB = "https://cloud.google.com/vpc/network-pricing#lb";
const ARMOR = "https://cloud.google.com/armor/pricing";

const run = (usd: number, unit: string, basis: PriceBasis, note?: string): Price => ({
  usd,
  unit,
  asOf: PRICE_TABLE_DATE,
  source: RUN,
  basis,
  ...(note ? { note } : {}),
});

/** Cloud Run's region pricing tiers. */
export type RunTier = "tier1" | "tier2";

/**
 * Cloud Run services, per vCPU-second and GiB-second, by billing mode:
 * - `instance`: instance-based billing ("CPU always allocated", `cpuIdle: false`): every second of an
 *   instance's life at this rate, min instances included.
 * - `request`: request-based billing (`cpuIdle: true`) while an instance handles requests.
 * - `idle`: what a min instance pays under request-based billing between requests.
 */
export interface RunRates {
  readonly instance: { readonly cpu: Price; readonly memory: Price };
  readonly request: { readonly cpu: Price; readonly memory: Price };
  readonly idle: { readonly cpu: Price; readonly memory: Price };
}

const VCPU = "vCPU-second";
const GIB = "GiB-second";

export const CLOUD_RUN: Readonly<Record<RunTier, RunRates>> = {
  tier1: {
    instance: {
      cpu: run(0.000018, VCPU, "published"),
      memory: run(
        0.000002,
        GIB,
        "billing-catalog",
        "SKU `Services Memory (Instance-based billing) in REGION`.",
      ),
    },
    request: {
      cpu: run(0.000024, VCPU, "published"),
      memory: run(0.0000025, GIB, "billing-catalog", "SKU `Services Memory (Request-based billing)`."),
    },
    idle: {
      cpu: run(
        0.0000025,
        VCPU,
        "billing-catalog",
        "SKU `Services Min Instance CPU (Request-based billing)`.",
      ),
      memory: run(
        0.0000025,
        GIB,
        "billing-catalog",
        "SKU `Services Min Instance Memory (Request-based billing)`.",
      ),
    },
  },
  tier2: {
    instance: {
      cpu: run(
        0.0000216,
        VCPU,
        "billing-catalog",
        "Instance-based SKUs are per region (`Services CPU (Instance-based billing) in REGION`); 0.0000216 was read for asia-south2 and europe-west3, not for every Tier 2 region.",
      ),
      memory: run(
        0.0000024,
        GIB,
        "billing-catalog",
        "Per-region SKU, as for CPU; read for asia-south2 and europe-west3.",
      ),
    },
    request: {
      cpu: run(0.0000336, VCPU, "billing-catalog", "SKU `Services CPU Tier 2 (Request-based billing)`."),
      memory: run(0.0000035, GIB, "billing-catalog", "SKU `Services Memory Tier 2 (Request-based billing)`."),
    },
    idle: {
      cpu: run(
        0.0000035,
        VCPU,
        "billing-catalog",
        "SKU `Services Min Instance CPU Tier 2 (Request-based billing)`.",
      ),
      memory: run(
        0.0000035,
        GIB,
        "billing-catalog",
        "SKU `Services Min Instance Memory Tier 2 (Request-based billing)`.",
      ),
    },
  },
};

/**
 * Cloud Run regions by pricing tier, as the Cloud Run locations page lists them. A region missing here
 * is not priced (the estimate says so) rather than guessed: add it with its tier from that page.
 */
export const RUN_REGION_TIERS: Readonly<Record<string, RunTier>> = {
  "asia-east1": "tier1",
  "asia-northeast1": "tier1",
  "asia-northeast2": "tier1",
  "europe-north1": "tier1",
  "europe-southwest1": "tier1",
  "europe-west1": "tier1",
  "europe-west4": "tier1",
  "europe-west8": "tier1",
  "europe-west9": "tier1",
  "me-west1": "tier1",
  "us-central1": "tier1",
  "us-east1": "tier1",
  "us-east4": "tier1",
  "us-east5": "tier1",
  "us-south1": "tier1",
  "us-west1": "tier1",
  "africa-south1": "tier2",
  "asia-east2": "tier2",
  "asia-northeast3": "tier2",
  "asia-southeast1": "tier2",
  "asia-southeast2": "tier2",
  "asia-south1": "tier2",
  "asia-south2": "tier2",
  "australia-southeast1": "tier2",
  "australia-southeast2": "tier2",
  "europe-central2": "tier2",
  "europe-west10": "tier2",
  "europe-west12": "tier2",
  "europe-west2": "tier2",
  "europe-west3": "tier2",
  "europe-west6": "tier2",
  "me-central1": "tier2",
  "me-central2": "tier2",
  "northamerica-northeast1": "tier2",
  "northamerica-northeast2": "tier2",
  "southamerica-east1": "tier2",
  "southamerica-west1": "tier2",
  "us-west2": "tier2",
  "us-west3": "tier2",
  "us-west4": "tier2",
};

/** Where the region tiers come from. */
export const RUN_REGION_TIERS_SOURCE = { asOf: PRICE_TABLE_DATE, source: RUN_LOCATIONS } as const;

/**
 * The global external Application Load Balancer's forwarding rules, charged per project: the first five
 * together at one hourly price, each one beyond at another. Data processed ($0.008/GiB in and out) is
 * traffic-driven and not estimated.
 */
export const FORWARDING_RULES = {
  firstFive: {
    usd: 0.025,
    unit: "hour, for the first 5 rules together",
    asOf: PRICE_TABLE_DATE,
    source: LB,
    basis: "published",
  },
  additional: {
    usd: 0.01,
    unit: "hour, per rule beyond 5",
    asOf: PRICE_TABLE_DATE,
    source: LB,
    basis: "published",
  },
} as const satisfies Record<string, Price>;

/**
 * Cloud Armor Standard (pay as you go). Requests ($0.75 per million through a global policy) are
 * traffic-driven and not estimated. Cloud Armor Enterprise is a subscription and not modelled.
 */
export const CLOUD_ARMOR = {
  policy: {
    usd: 5,
    unit: "policy per month",
    asOf: PRICE_TABLE_DATE,
    source: ARMOR,
    basis: "quoted",
    note: "Not read on Google's page here; several independent write-ups quote it from that page.",
  },
  rule: {
    usd: 1,
    unit: "rule per month",
    asOf: PRICE_TABLE_DATE,
    source: ARMOR,
    basis: "quoted",
    note: "As for the policy. Every rule of the policy is counted, the default rule too: an upper bound if Google does not bill the default rule.",
  },
} as const satisfies Record<string, Price>;
