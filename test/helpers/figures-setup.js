'use strict';
module.exports = require('./figures-summary').setup;
