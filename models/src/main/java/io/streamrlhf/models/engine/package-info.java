/**
 * Engine start-up: DJL's PyTorch engine chosen explicitly, offline, with configurable thread counts
 * and the device (GPU when DJL finds one, else CPU).
 */
package io.streamrlhf.models.engine;
