import { describeHdu, type FitsHdu, notableFitsKeys } from "./fits-header.js";

/** The HDUs of a FITS file, one line each, with their notable keys and every card on request. */
export function FitsSummary(props: { hdus: readonly FitsHdu[]; isComplete: boolean }) {
	if (props.hdus.length === 0) return <p className="muted">No complete FITS header in the first part of the file.</p>;
	return (
		<div className="fits" data-testid="fits-summary">
			<ol className="fits-hdus">
				{props.hdus.map((hdu) => {
					const notable = hdu.cards.filter((c) => (notableFitsKeys as readonly string[]).includes(c.key));
					return (
						<li key={hdu.index}>
							<p className="fits-hdu-title">
								<strong>HDU {hdu.index}</strong> · {describeHdu(hdu)}
							</p>
							{notable.length > 0 ? (
								<dl className="facts">
									{notable.map((c) => (
										<div key={c.key}>
											<dt>{c.key}</dt>
											<dd title={c.comment || undefined}>{c.value}</dd>
										</div>
									))}
								</dl>
							) : null}
							<details>
								<summary>All {hdu.cards.length} header cards</summary>
								<div className="table-scroll">
									<table className="fits-cards">
										<caption className="visually-hidden">Header cards of HDU {hdu.index}</caption>
										<thead>
											<tr>
												<th scope="col">Key</th>
												<th scope="col">Value</th>
												<th scope="col">Comment</th>
											</tr>
										</thead>
										<tbody>
											{hdu.cards.map((c, i) => (
												// biome-ignore lint/suspicious/noArrayIndexKey: COMMENT and HISTORY keys repeat
												<tr key={i}>
													<th scope="row">{c.key}</th>
													<td>{c.value}</td>
													<td>{c.comment}</td>
												</tr>
											))}
										</tbody>
									</table>
								</div>
							</details>
						</li>
					);
				})}
			</ol>
			{props.isComplete ? null : (
				<p className="muted">Further extensions lie beyond the part of the file read for this summary.</p>
			)}
		</div>
	);
}
