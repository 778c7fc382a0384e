import { memo, useLayoutEffect, useRef } from "react";
import type { AnsiSpan, AnsiStyle } from "./ansi-line.js";
import { blockSize, type LogBuffer, partialLine } from "./log-buffer.js";

function spanProps(style: AnsiStyle): { className?: string; style?: { color?: string; backgroundColor?: string } } {
	const classes: string[] = [];
	const css: { color?: string; backgroundColor?: string } = {};
	let { fg, bg } = style;
	if (style.inverse) [fg, bg] = [bg ?? "default-bg", fg ?? "default-fg"];
	if (typeof fg === "number") classes.push(`ansi-fg-${fg}`);
	else if (fg === "default-fg") classes.push("ansi-fg-default");
	else if (fg === "default-bg") classes.push("ansi-fg-inverse");
	else if (fg) css.color = fg;
	if (typeof bg === "number") classes.push(`ansi-bg-${bg}`);
	else if (bg === "default-fg") classes.push("ansi-bg-inverse");
	else if (bg && bg !== "default-bg") css.backgroundColor = bg;
	if (style.bold) classes.push("ansi-bold");
	if (style.dim) classes.push("ansi-dim");
	if (style.italic) classes.push("ansi-italic");
	if (style.underline) classes.push("ansi-underline");
	if (style.strike) classes.push("ansi-strike");
	return {
		...(classes.length ? { className: classes.join(" ") } : {}),
		...(css.color || css.backgroundColor ? { style: css } : {}),
	};
}

function Line({ spans }: { spans: readonly AnsiSpan[] }) {
	return (
		<span className="log-line">
			{spans.map((s, i) =>
				Object.keys(s.style).length === 0 ? (
					s.text
				) : (
					// biome-ignore lint/suspicious/noArrayIndexKey: spans of a finished line never move
					<span key={i} {...spanProps(s.style)}>
						{s.text}
					</span>
				),
			)}
			{"\n"}
		</span>
	);
}

/** One block of complete lines: re-renders only when lines are added to it (they never change). */
const Block = memo(
	function Block(props: { lines: readonly (readonly AnsiSpan[])[] }) {
		return (
			<>
				{props.lines.map((spans, i) => (
					// biome-ignore lint/suspicious/noArrayIndexKey: lines are append-only
					<Line key={i} spans={spans} />
				))}
			</>
		);
	},
	(a, b) => a.lines.length === b.lines.length && a.lines[0] === b.lines[0],
);

/** A terminal-like view of a log with ANSI colours; it sticks to the end unless the reader scrolls up. */
export function LogView(props: { buffer: LogBuffer; label: string; empty: string }) {
	const { buffer } = props;
	const box = useRef<HTMLPreElement>(null);
	const stick = useRef(true);
	useLayoutEffect(() => {
		if (stick.current && box.current) box.current.scrollTop = box.current.scrollHeight;
	});
	const onScroll = () => {
		const el = box.current;
		if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
	};
	const blocks: (readonly AnsiSpan[])[][] = [];
	for (let i = 0; i < buffer.lines.length; i += blockSize) blocks.push(buffer.lines.slice(i, i + blockSize));
	const partial = partialLine(buffer);
	const isEmpty = buffer.lines.length === 0 && partial.length === 0;
	return (
		// biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
		<pre ref={box} className="log" role="log" aria-label={props.label} aria-live="off" tabIndex={0} onScroll={onScroll}>
			{buffer.dropped > 0 ? (
				<span className="log-dropped">
					… {buffer.dropped.toLocaleString()} earlier lines are not shown here{"\n"}
				</span>
			) : null}
			{isEmpty ? <span className="log-empty">{props.empty}</span> : null}
			{blocks.map((lines, k) => (
				<Block key={(buffer.dropped + k * blockSize).toString()} lines={lines} />
			))}
			{partial.length > 0 ? <Line spans={partial} /> : null}
		</pre>
	);
}
