package io.streamrlhf.models.sampling;

/** Why a row stopped. */
public enum FinishReason {
    /** It drew the end-of-sequence id (included as its last token). */
    EOS,
    /** It reached max-new-tokens or the context length. */
    LENGTH
}
