/**
 * The decoder-only transformer shared by policies and reward models: its config, layers, trunk,
 * KV cache and seeded initialisation, written as DJL blocks.
 */
package io.streamrlhf.models.transformer;
