export { baseOf, type CwlLoadOptions, type LoadedCwl, loadCwl } from "./cwl-document-loader.js";
export * from "./cwl-model.js";
export { type CwlReferences, fileLocations, processReferences } from "./cwl-references.js";
export { findCycle } from "./cwl-semantics.js";
export { fragmentOf, lastSegment, pathToUri, resolveUri, shortName, uriToPath, withoutFragment } from "./cwl-uri.js";
export { parseCwlText, type SourceRef, sourceOf } from "./cwl-yaml.js";
export { type OutputPlacement, placeOutputs } from "./output-placement.js";
export { type TextItemType, type TextValueContext, textTypeOf, typedTextValues, valueOfText } from "./text-values.js";
