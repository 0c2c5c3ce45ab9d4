import { z } from "zod";
import { OWASP_RULES } from "../model/loadBalancer";
import { fix } from "./errors";

/** The shape of `ai-orchestra:loadBalancer`; the cross-field rules and defaults are in loadBalancer.ts. */

const domainList = z
  .array(z.string({ error: "must be a host name such as `api.example.com`." }), {
    error: fix("must be a list of host names.", "e.g. `domains: [api.example.com]`."),
  })
  .min(1, {
    error: fix(
      "must list at least one host name: the balancer routes by host.",
      "add the name clients use, e.g. `domains: [api.example.com]`.",
    ),
  });

export const loadBalancerSchema = z.strictObject(
  {
    defaultService: z.string({ error: "must be the name of a service under `services`." }).optional(),
    services: z
      .record(z.string(), z.strictObject({ domains: domainList }), {
        error: fix(
          "must map service names to their host names.",
          "e.g. `services: {api: {domains: [api.example.com]}}`.",
        ),
      })
      .refine((s) => Object.keys(s).length > 0, {
        error: fix("must put at least one service behind the balancer.", "add `api: {domains: [...]}`."),
      }),
    armor: z
      .strictObject({
        rateLimit: z
          .strictObject({
            requestsPerMinute: z
              .number({ error: fix("must be a number of requests per minute.", "e.g. 600.") })
              .int({ error: fix("must be a whole number.", "e.g. 600.") })
              .min(1, { error: fix("must be at least 1.", "e.g. 600 requests per minute per client IP.") }),
          })
          .optional(),
        owasp: z
          .array(z.string({ error: "must be a rule name." }), {
            error: fix(
              `must be a list of OWASP rule names: ${OWASP_RULES.join(", ")}.`,
              "e.g. `owasp: [sqli, xss]`; `[]` turns the WAF rules off.",
            ),
          })
          .optional(),
        sensitivity: z
          .number({ error: fix("must be a sensitivity from 1 to 4.", "1 blocks least legitimate traffic.") })
          .int({ error: fix("must be a whole number from 1 to 4.", "use 1, 2, 3 or 4.") })
          .min(1, { error: fix("must be at least 1 (0 would turn every signature off).", "use 1.") })
          .max(4, { error: fix("must be at most 4, the highest OWASP paranoia level.", "use 1 to 4.") })
          .optional(),
        preview: z
          .boolean({ error: fix("must be true or false.", "true logs matches without blocking anything.") })
          .optional(),
      })
      .optional(),
  },
  {
    error: fix(
      "must be an object.",
      "e.g. `{services: {api: {domains: [api.example.com]}}}`, or `{}` for no balancer.",
    ),
  },
);

export type RawLoadBalancer = z.infer<typeof loadBalancerSchema>;
