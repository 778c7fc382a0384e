cwlVersion: v1.2
class: CommandLineTool
doc: Adds up the per-chunk counts into one total.
baseCommand: [awk, -F, ",", "{ total += $2 } END { print total + 0 }"]
inputs:
  counts: {type: "File[]", inputBinding: {position: 1}}
stdout: total.txt
outputs:
  total: stdout
