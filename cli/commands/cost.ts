import type { Command } from "@commander-js/extra-typings";
import { jsonOption, requiredStackOption } from "./options";
import * as cost from "../cost/run";

export function registerCost(program: Command): void {
  program
    .command("cost")
    .description(
      "Estimate a stack's monthly always-on baseline (min instances, balancer, Cloud Armor) from its config",
    )
    .addOption(requiredStackOption("stack to estimate (Pulumi.<name>.yaml)"))
    .addOption(
      jsonOption(
        "{stack, priceTableDate, hoursPerMonth, services, balancer, armor, totalUsd, complete, assumptions}",
      ),
    )
    .addHelpText(
      "after",
      "\nPrices come from the dated table in model/cost/prices.ts (list prices, USD, 730 hours a month). Only\n" +
        "what runs with no traffic is estimated: min instances per region and billing mode, the balancer's\n" +
        "forwarding rules and Cloud Armor. Free tiers are not subtracted. No Pulumi CLI, no credentials.\n\n" +
        "Example:\n  orchestra cost --stack prod",
    )
    .action((opts) => cost.runCost(opts));
}
