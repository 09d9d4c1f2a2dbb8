/**
 * Pieces of a training step every trainer shares: gradient clipping, optimiser updates and
 * gradient zeroing, scoped to a per-step manager so native memory stays flat.
 */
package io.streamrlhf.models.training;
