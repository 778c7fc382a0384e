cwlVersion: v1.2
class: Workflow
doc: |
  Counts the stars brighter than a magnitude limit in a catalogue split into chunks: one job per
  chunk (a scatter, run in parallel as far as the backend allows), then one job adding up the counts.
requirements:
  ScatterFeatureRequirement: {}
inputs:
  chunks: File[]
  max_mag: {type: float, default: 12.0}
outputs:
  per_chunk:
    type: File[]
    outputSource: count/count
  total:
    type: File
    outputSource: sum/total
steps:
  count:
    run: tools/count-bright.cwl
    scatter: chunk
    in:
      chunk: chunks
      max_mag: max_mag
    out: [count]
  sum:
    run: tools/sum-counts.cwl
    in:
      counts: count/count
    out: [total]
