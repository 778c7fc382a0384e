// The composition root: wires the CLI to the server-side code it may start (the embedded server,
// `orrery server`, `orrery admin`). Server modules load lazily so `orrery --version` stays fast.
import { join } from "node:path";
import { type CliDeps, main } from "./cli/index.js";
import { apiVersion } from "./contract/index.js";

const deps: CliDeps = {
	version: apiVersion.orrery,

	async startEmbedded() {
		const [{ OrreryServer }, { readServerConfig }, { pino }] = await Promise.all([
			import("./server/index.js"),
			import("./config/index.js"),
			import("pino"),
		]);
		// A server for one CLI command: no one scrapes its metrics.
		const config = { ...readServerConfig(), metrics: false, embedded: true };
		const logger = pino(
			{ level: config.logLevel },
			pino.destination({ dest: join(config.home, "orrery.log"), mkdir: true, sync: false }),
		);
		const server = await OrreryServer.open({ config, logger });
		const url = await server.listen("127.0.0.1", 0);
		const token = server.createSessionToken(await server.localUser());
		return { url, token, close: () => server.close() };
	},

	async serve(options) {
		const [{ OrreryServer }, { readServerConfig }] = await Promise.all([
			import("./server/index.js"),
			import("./config/index.js"),
		]);
		const config = readServerConfig();
		const server = await OrreryServer.open({ config });
		const url = await server.listen(options.host ?? config.host, options.port ?? config.port);
		process.stderr.write(
			`Orrery ${apiVersion.orrery} listening on ${url} (database: ${config.databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")}, workspaces: ${config.workspaceRootTemplate ? `${config.workspaceRootTemplate}/workflows` : config.workspaceRoot})\n`,
		);
		await new Promise<void>((done) => {
			const stop = () => done();
			process.once("SIGINT", stop);
			process.once("SIGTERM", stop);
		});
		process.stderr.write("shutting down; running jobs keep running and are picked up at the next start\n");
		await server.close();
	},

	async admin() {
		const [{ adminCommands }, { readServerConfig }] = await Promise.all([
			import("./server/index.js"),
			import("./config/index.js"),
		]);
		return adminCommands(readServerConfig());
	},
};

await main(process.argv.slice(2), deps);
