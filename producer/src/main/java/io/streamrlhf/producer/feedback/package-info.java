/**
 * Feedback ingestion: the HTTP service ({@link io.streamrlhf.producer.feedback.FeedbackServer}) that accepts
 * pairwise, rating and best-of-n labels as JSON and serves the rater page, with its annotator tokens
 * ({@link io.streamrlhf.producer.feedback.FeedbackTokens}), rate limit and memory of recent ids; the one JSON format and its validation
 * ({@link io.streamrlhf.producer.feedback.FeedbackParser}); file import
 * ({@link io.streamrlhf.producer.feedback.FeedbackImporter}); the synthetic world's simulated raters
 * ({@link io.streamrlhf.producer.feedback.SimulatedRaters}); and the window of recent generations the page and the
 * raters draw pairs from ({@link io.streamrlhf.producer.feedback.RecentGenerations}). Every record says its source.
 */
package io.streamrlhf.producer.feedback;
