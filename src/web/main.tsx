// The entry of the web UI: mounts the app into index.html's #root.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import "./styles/base.css";
import "./styles/runs.css";
import "./styles/run.css";
import "./styles/logs.css";
import "./styles/files.css";
import "./styles/identity.css";

const root = document.getElementById("root");
if (root)
	createRoot(root).render(
		<StrictMode>
			<App />
		</StrictMode>,
	);
