/**
 * Reports of an evaluation: the one-line JSON object {@code rlhf replay --json} prints last
 * ({@link io.streamrlhf.evaluator.report.JsonReport}), and an HTML page with tables and PNG charts drawn by JFreeChart
 * ({@link io.streamrlhf.evaluator.report.HtmlReport}).
 */
package io.streamrlhf.evaluator.report;
