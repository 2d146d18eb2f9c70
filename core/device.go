package core

// Hooks for device backends (package cuda): what they need of core to give Forward's exact
// contract on another device without reimplementing its checks.

// CheckForward validates a forward call exactly as Forward does — shapes, lengths, buffer sizes,
// workspace limit, finite features (every element is read) — and returns T′ (max(lengths), or T
// without lengths). A device backend calls it before touching the device.
func (m *Model) CheckForward(x []float32, B, T int, lengths []int32, pad Padding, logits, frameWeights []float32) (int, error) {
	Tp, err := m.checkForward(len(x), B, T, lengths, pad, len(logits), frameWeights)
	if err != nil {
		return 0, err
	}
	if err := checkFinite(x, "features"); err != nil {
		return 0, err
	}
	return Tp, nil
}
