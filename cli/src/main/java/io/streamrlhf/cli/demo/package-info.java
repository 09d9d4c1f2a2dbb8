/**
 * The flags {@code rlhf demo} and {@code rlhf bench e2e} share; the run itself is the {@code loop} module's
 * ({@code io.streamrlhf.loop.demo}).
 */
package io.streamrlhf.cli.demo;
