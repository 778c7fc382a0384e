export { type AdminCommands, adminCommands } from "./admin.js";
export { buildApp } from "./app.js";
export { OrreryServer, type OrreryServerOptions } from "./orrery-server.js";
export type { ServerContext } from "./server-context.js";
