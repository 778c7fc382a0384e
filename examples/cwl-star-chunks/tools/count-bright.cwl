cwlVersion: v1.2
class: CommandLineTool
doc: Counts the stars of one catalogue chunk brighter than a G magnitude (CSV with a header line).
baseCommand: [awk, -F, ",", -v]
arguments:
  - valueFrom: limit=$(inputs.max_mag)
  - 'NR > 1 && $4 < limit { n++ } END { k = split(FILENAME, p, "/"); print p[k] "," n + 0 }'
inputs:
  chunk: {type: File, inputBinding: {position: 1}}
  max_mag: float
stdout: $(inputs.chunk.nameroot).count.csv
outputs:
  count: stdout
