export { ApiClient, ApiError } from "./api-client.js";
export { main, runCli } from "./main.js";
export type { CliDeps, EmbeddedServer } from "./session.js";
