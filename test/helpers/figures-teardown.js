'use strict';
module.exports = require('./figures-summary').teardown;
