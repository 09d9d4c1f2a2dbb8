/**
 * Frozen pretrained text encoders (all-MiniLM-L6-v2 through ONNX Runtime) and the reward heads trained on their
 * embeddings of (prompt, response).
 */
package io.streamrlhf.models.encoder;
