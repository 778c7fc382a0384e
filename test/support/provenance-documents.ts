// A CWL workflow whose documents import, run and include others: what a run's record of its
// workflow files must cover (the provenance tests, server and CLI).

/** The workflow: one step that runs tools/say.cwl. */
export const mainCwl = `cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs:
  out: {type: File, outputSource: say/out}
steps:
  say:
    run: tools/say.cwl
    in: {msg: msg}
    out: [out]
`;

/** tools/say.cwl: echoes `word` and the message; its doc is included from tools/say.txt. */
export const sayCwl = (word: string) => `cwlVersion: v1.2
class: CommandLineTool
doc: {$include: say.txt}
baseCommand: [echo, ${word}]
inputs:
  msg: {type: string, inputBinding: {position: 1}}
stdout: said.txt
outputs:
  out: stdout
`;
