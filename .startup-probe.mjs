const t0 = performance.now();
const [{ OrreryServer }, { readServerConfig }, { pino }] = await Promise.all([
  import("/work/main/dist/server/index.js"), import("/work/main/dist/config/index.js"), import("/work/main/node_modules/pino/pino.js")]);
const t1 = performance.now();
const config = { ...readServerConfig(), metrics: false };
const server = await OrreryServer.open({ config, logger: pino({level:"warn"}) });
const t2 = performance.now();
const url = await server.listen("127.0.0.1", 0);
const t3 = performance.now();
console.log({imports:(t1-t0).toFixed(0), open:(t2-t1).toFixed(0), listen:(t3-t2).toFixed(0)});
await server.close();
