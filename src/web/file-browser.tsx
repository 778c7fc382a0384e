import { useId, useState } from "react";
import { apiCall, errorMessage } from "./api-client.js";
import { breadcrumb, formatBytes, listDirectory, type WorkspaceFile } from "./directory-listing.js";
import { FilePreview } from "./file-preview.js";
import { downloadFile } from "./file-transfer.js";
import { formatDateTime } from "./format-time.js";
import { navigate, withQuery } from "./router.js";
import { useResource } from "./use-resource.js";

/** The workspace of a run: folders to navigate, files to preview and download (folders download as zip). */
export function FileBrowser(props: { runId: string; dir: string; selected: string | undefined; filesVersion: number }) {
	const { runId, dir } = props;
	const [filter, setFilter] = useState("");
	const [transfer, setTransfer] = useState<{ path: string; text: string; isError?: boolean }>();
	const filterId = useId();
	const files = useResource(`${runId}\n${props.filesVersion}`, (signal) =>
		apiCall("get_files", { params: { workflow_id_or_name: runId }, signal }),
	);
	const all = files.data?.items ?? [];
	const needle = filter.trim().toLowerCase();
	const listing = needle
		? {
				folders: [],
				files: all.filter((f) => f.name.toLowerCase().includes(needle)).map((f) => ({ ...f, base: f.name })),
			}
		: listDirectory(all, dir);
	const selected = all.find((f) => f.name === props.selected);
	const go = (patch: { dir?: string; file?: string }) => navigate(withQuery({ dir: patch.dir, file: patch.file }));

	const download = async (path: string) => {
		setTransfer({ path, text: "Downloading…" });
		try {
			await downloadFile(runId, path, (got, total) =>
				setTransfer({ path, text: `Downloading… ${total ? `${Math.round((100 * got) / total)}%` : formatBytes(got)}` }),
			);
			setTransfer({ path, text: `Downloaded ${path}` });
		} catch (e) {
			setTransfer({ path, text: `Download failed: ${errorMessage(e)}`, isError: true });
		}
	};

	return (
		<div className={`files${selected ? " has-preview" : ""}`}>
			<div className="files-list">
				<div className="files-toolbar">
					<nav aria-label="Folder" className="breadcrumb">
						<ol>
							<li>
								<button
									type="button"
									className="button-link"
									onClick={() => go({})}
									aria-current={dir === "" ? "location" : undefined}
								>
									workspace
								</button>
							</li>
							{breadcrumb(dir).map((b) => (
								<li key={b.path}>
									<button
										type="button"
										className="button-link"
										onClick={() => go({ dir: b.path })}
										aria-current={b.path === dir ? "location" : undefined}
									>
										{b.name}
									</button>
								</li>
							))}
						</ol>
					</nav>
					<div className="field field-inline">
						<label htmlFor={filterId}>Find files</label>
						<input id={filterId} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
					</div>
				</div>
				{files.error ? (
					<p className="inline-error" role="alert">
						Cannot list the workspace: {errorMessage(files.error)}
					</p>
				) : null}
				<p className="transfer-status" role="status">
					<span className={transfer?.isError ? "inline-error" : "muted"}>{transfer?.text ?? "\u00a0"}</span>
				</p>
				<div className="table-scroll">
					<table className="file-table" data-testid="file-table">
						<caption className="visually-hidden">
							{needle ? `Files matching ${filter}` : `Contents of ${dir || "the workspace"}`}
						</caption>
						<thead>
							<tr>
								<th scope="col">Name</th>
								<th scope="col" className="numeric">
									Size
								</th>
								<th scope="col">Modified</th>
								<th scope="col">
									<span className="visually-hidden">Actions</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{listing.folders.map((f) => (
								<tr key={`d:${f.path}`}>
									<th scope="row">
										<button type="button" className="button-link" onClick={() => go({ dir: f.path })}>
											<span aria-hidden="true">📁 </span>
											{f.name}/
										</button>
									</th>
									<td className="numeric">{formatBytes(f.bytes)}</td>
									<td className="muted">
										{f.files} file{f.files === 1 ? "" : "s"}
									</td>
									<td>
										<button type="button" className="button-quiet" onClick={() => void download(f.path)}>
											Download zip
										</button>
									</td>
								</tr>
							))}
							{listing.files.map((f) => (
								<FileRow
									key={f.name}
									file={f}
									label={f.base}
									isSelected={f.name === props.selected}
									onPreview={() => go({ dir, file: f.name })}
									onDownload={() => void download(f.name)}
								/>
							))}
						</tbody>
					</table>
				</div>
				{files.data && listing.folders.length + listing.files.length === 0 ? (
					<p className="muted">{needle ? "No file matches." : "This folder is empty."}</p>
				) : null}
			</div>
			{selected ? (
				<section className="files-preview" aria-label={`Preview of ${selected.name}`}>
					<div className="preview-head">
						<h2>{selected.name}</h2>
						<button type="button" className="button-quiet" onClick={() => void download(selected.name)}>
							Download
						</button>
						<button type="button" className="button-quiet" aria-label="Close the preview" onClick={() => go({ dir })}>
							✕
						</button>
					</div>
					<FilePreview runId={runId} file={selected} />
				</section>
			) : null}
		</div>
	);
}

function FileRow(props: {
	file: WorkspaceFile;
	label: string;
	isSelected: boolean;
	onPreview(): void;
	onDownload(): void;
}) {
	const { file } = props;
	return (
		<tr className={props.isSelected ? "is-selected" : undefined} data-file={file.name}>
			<th scope="row">
				<button type="button" className="button-link" aria-pressed={props.isSelected} onClick={props.onPreview}>
					{props.label}
				</button>
			</th>
			<td className="numeric" title={`${file.size.raw.toLocaleString()} bytes`}>
				{formatBytes(file.size.raw)}
			</td>
			<td>{formatDateTime(file["last-modified"])}</td>
			<td>
				<button type="button" className="button-quiet" aria-label={`Download ${file.name}`} onClick={props.onDownload}>
					Download
				</button>
			</td>
		</tr>
	);
}
