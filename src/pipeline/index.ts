export { analyzeImage, type AdviceOptions, type Analysis, type AnalyzeOptions, type LayerProgress, type LayerReadObserver } from './analyze.js'
