/**
 * Reading JSONL files line by line, the way every importer ({@code rlhf prompts send --file}, {@code rlhf feedback
 * import}, {@code rlhf train-rm --file}) numbers and decodes them ({@link io.streamrlhf.schemas.jsonl.JsonlLines}).
 */
package io.streamrlhf.schemas.jsonl;
