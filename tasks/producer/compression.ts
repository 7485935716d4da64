// The codecs a producer may use, by flag name.
import { CompressionTypes } from 'kafkajs';

export type CompressionName = 'none' | 'gzip';

export const COMPRESSION: Record<CompressionName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
};
