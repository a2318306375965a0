"""What the model sees, remembers and learns, and the user's marks: the insight docks
(Prediction, Event memory, Your marks, Learning), each a model without widgets and a view."""
