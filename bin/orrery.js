#!/usr/bin/env node
// The bundled build (dist/bundle, made by `npm run build`) starts ~0.3 s sooner than the compiled
// modules it is made of; without it (`npm run dev` removes it), dist/main.js runs as it is. A bundle
// older than dist/main.js (a bare `tsc` since the last build, which rewrites every module) would run
// yesterday's code: the modules run instead. An installed package has one date on every file.
import { statSync } from "node:fs";

const bundled = new URL("../dist/bundle/main.js", import.meta.url);
const compiled = new URL("../dist/main.js", import.meta.url);
const modified = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
const bundledAt = modified(bundled);
const isCurrent = bundledAt !== undefined && bundledAt >= (modified(compiled) ?? 0);
await import(isCurrent ? bundled.href : compiled.href);
