export { NotificationChannels, type NotificationChannelsArgs } from "./notificationChannels";
export { ServiceAlerts, type ServiceAlertsArgs } from "./serviceAlerts";
export { ServiceDashboard, type ServiceDashboardArgs } from "./serviceDashboard";
export { OverviewDashboard, type OverviewDashboardArgs } from "./overviewDashboard";
export { LogMetrics, type LogMetricsArgs } from "./logMetrics";
export { QueueAlerts, type QueueAlertsArgs } from "./queueAlerts";
export { ModelSpend, type ModelSpendArgs } from "./modelSpend";
export { BreakglassAlert, type BreakglassAlertArgs } from "./breakglassAlert";
